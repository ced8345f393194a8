"""The resilience matrix: every link x every fault kind, classified and pruned."""
