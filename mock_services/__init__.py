"""The built-in system under test: credit bureau, payment gateway, lending."""
