"""Operator tools: the screener CLI, file screening, reports."""
