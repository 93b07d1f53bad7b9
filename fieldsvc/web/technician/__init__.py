"""The technician's phone pages under /tech: today's route, check-in/out, offline queue."""
from fieldsvc.web.technician.views import bp

__all__ = ["bp"]
