"""fabthread.cam.kernels: numba kernels of the CAM stage."""
