"""xstui.xapi"""
