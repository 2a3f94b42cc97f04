"""Realistic-looking words for generated rows: owners, currencies, channels, reasons.

Names and notes mix scripts and emoji on purpose, so ordinary payment rows exercise utf8mb4
too, not only the type-torture table.
"""

from __future__ import annotations

CURRENCIES = ("EUR", "USD", "GBP")

FIRST_NAMES = (
    "Ada", "Grace", "Alan", "Zoë", "José", "Björn", "Chloé", "Łukasz", "Søren", "Aiko",
    "Олена", "Mateo", "Fatima", "Siobhán", "Nguyễn", "Ravi", "Émile", "Ingrid", "Yusuf", "Mei",
)
LAST_NAMES = (
    "Lovelace", "Hopper", "Turing", "Núñez", "Müller", "O'Brien", "Dubois", "Kowalski",
    "Ødegaard", "Tanaka", "Шевченко", "García", "Al-Sayed", "Ní Bhriain", "Văn An", "Patel",
    "Zoltán-Kiss", "van der Berg", "Öztürk", "李",
)
CHANNELS = ("card", "sepa", "wire", "instant", "wallet")
CARD_BRANDS = ("visa", "mastercard", "amex", "discover")
COUNTRIES = ("DE", "FR", "GB", "US", "ES", "PL", "JP", "NL", "SE", "BR")
NOTES = (
    "Invoice 2026/0042",
    "Miete März",
    "Café ☕ and croissants 🥐",
    "月額料金",
    "Überweisung — danke!",
    'Order "A-17" \\ split',
    "🎁 gift",
    "Rückerstattung\nsecond line",
)
FAILURE_REASONS = ("insufficient_funds", "card_declined", "fraud_suspected", "limit_exceeded")
REFUND_REASONS = (
    "customer request",
    "duplicate charge",
    "goods not received",
    "fraudulent — chargeback",
)
