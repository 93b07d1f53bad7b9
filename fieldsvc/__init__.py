"""fieldsvc: field service for POS terminal maintenance."""
__version__ = "0.1.0"
