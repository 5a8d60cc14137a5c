"""The NumPy track's GANs (notebooks 02-04), built on the layers of nn_numpy.

loop.py is the training step they share; toy.py learns 2D points, images.py small
images; classify.py holds notebook 02's classifier helpers.
"""
