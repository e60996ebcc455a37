"""The app's modal screens: launch dialog, confirmation, help."""
