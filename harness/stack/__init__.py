"""Stacks: the services of a system under test and the proxied links between them."""
