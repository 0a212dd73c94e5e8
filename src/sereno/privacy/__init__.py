"""What people are allowed to see: anonymisers, privacy masks, and the anonymised stream (live and recorded)."""
