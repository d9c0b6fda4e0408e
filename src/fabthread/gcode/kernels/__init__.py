"""fabthread.gcode.kernels"""
