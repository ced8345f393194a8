"""Reading scenario and stack files: YAML with lines, durations, thresholds, errors.

Import the modules themselves (harness.spec.durations, .thresholds, ...): this
package imports nothing, so the pure-Python ones (durations, names, suggest)
cost no pydantic where only they are needed, as in the load process.
"""
