"""Contracts: SLA clocks and targets, penalty arithmetic."""
