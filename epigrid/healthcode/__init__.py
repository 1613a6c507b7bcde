"""Health codes (健康码): colours, signed QR tokens and the keys that verify them."""
