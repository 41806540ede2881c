"""Built-in policies, shipped inside the wheel."""
