"""The dispatcher's pages under /dispatch: the day board with timeline, map and actions."""
from fieldsvc.web.dispatcher.views import bp

__all__ = ["bp"]
