"""The service desk: EM calls (intake, lifecycle, escalation, survey), who is told of a change, slotting."""
