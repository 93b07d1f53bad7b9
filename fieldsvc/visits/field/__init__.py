"""The technician's side: the day on the phone, check-in/out, outcomes, photos."""
