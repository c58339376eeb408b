"""Sparkplug B in: edge nodes that speak Sparkplug B feed idleshare without its agent."""
