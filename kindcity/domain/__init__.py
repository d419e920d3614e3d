"""The pure domain of kindcity.

Purity rule: nothing in this package does I/O or imports Flask, SQLAlchemy, Stripe or any
other framework. Everything here takes plain values and returns plain values, so it is tested
in milliseconds without an app or a database. Money is an ``int`` number of won everywhere.
"""
