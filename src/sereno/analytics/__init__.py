"""Video analytics: motion on the sub stream's luma, detectors where there is motion, tracks within one camera,
rules over tracks and zones that raise alerts. Nothing here identifies anyone (DESIGN.md, refusals)."""
