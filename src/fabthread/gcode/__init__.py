"""fabthread.gcode"""
