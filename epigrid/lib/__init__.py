"""Plain helpers with no ORM: validation, crypto, masking, time. Safe to import from anywhere."""
