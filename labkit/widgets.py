"""ipywidgets front-ends: one function per notebook knob; each returns a widget to display."""
