"""Reading scenario and stack files: YAML with lines, durations, thresholds, errors.

Import the modules themselves (harness.schema.durations, .thresholds, ...): this
package imports nothing, so the pure-Python ones (durations, names, suggest)
cost no pydantic where only they are needed, as in the load process.
"""
