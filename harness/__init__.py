"""chaosdrill: chaos and resilience drills with real services, traffic and faults."""

__version__ = "0.1.0"
