"""The six reference flows, one module each: a definition (docs/FLOW_DEFINITION.md) that maps
source → canonical object → target, over connections named after their vendor (the names
`manage.py seed_demo` gives the sandbox connections)."""
