"""xstui.services"""
