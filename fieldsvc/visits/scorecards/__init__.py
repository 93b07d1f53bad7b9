"""Contractor scorecards: KPIs, the rows behind them, the penalty ledger, the workbook."""
