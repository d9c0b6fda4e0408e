"""fabthread.slice"""
