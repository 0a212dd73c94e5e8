"""Alerts: analytics events become alerts (deduplicated, escalated), handled by people, promoted to incidents."""
