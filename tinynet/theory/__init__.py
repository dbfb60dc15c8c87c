"""Signal-propagation theory: what the Monitor should measure, predicted.

``meanfield`` holds the length and correlation maps of wide random networks (Poole et al. 2016;
Schoenholz et al. 2017), ``isometry`` the input-output Jacobian and its spectrum (Pennington,
Schoenholz & Ganguli 2017). Import them as ``from tinynet.theory import meanfield as mf, isometry``.
"""

from . import isometry, meanfield

__all__ = ["isometry", "meanfield"]
