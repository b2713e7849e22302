"""The template gallery: reference flows a firm installs in one click, then edits like any flow."""
