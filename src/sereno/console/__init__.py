"""The web console: templates and static ES modules served by the API process, no build step."""
