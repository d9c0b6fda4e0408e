"""fabthread.customize"""
