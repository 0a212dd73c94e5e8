"""The shared kernel: database, bus, clock, auth and audit that every capability stands on."""
