"""fabthread.slice.kernels"""
