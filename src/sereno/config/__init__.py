"""Configuration: process settings (environment) and the site file (centres, cameras, units, policies)."""
