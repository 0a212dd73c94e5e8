"""Sealed recording: segments, index, retention, legal hold, playback."""
