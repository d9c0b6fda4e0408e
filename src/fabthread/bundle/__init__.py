"""fabthread.bundle"""
