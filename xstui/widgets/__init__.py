"""xstui.widgets"""
