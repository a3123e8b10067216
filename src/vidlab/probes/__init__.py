"""Measure physics in any video: objects, tracks, gravity, bounces, collisions and failure events.

The probes make no use of vidlab's renderer, so they also work on videos from other generators: any
background colour or static texture, anti-aliased or blurred edges, sensor noise, compression artefacts,
RGB or grayscale, uint8 or float in [0, 1].

How it works, in order:

1. **Background.** The per-pixel temporal median. On a plain background, static blobs that look like
   objects (not rectangles) are painted over with the background colour, so a ball at rest is still found.
   Static rectangles stay in the background as *scenery* (occluders, tables).
2. **Palette.** The colours of confident foreground pixels are clustered (mean shift on a colour grid).
3. **Soft masks.** Each foreground pixel takes the colour of the nearest confident pixel and gets a
   coverage ``alpha`` by projecting ``frame - background`` on ``colour - background``. Centres are
   alpha-weighted centroids: exact for anti-aliased and blurred discs, since blur preserves centroids.
4. **Tracks.** Detections are linked frame to frame by the Hungarian algorithm on the distance to a
   constant-velocity prediction, with colour and size in the cost.
5. **Physics.** Free-flight segments are cut at bounces (jumps in the second difference). One quadratic per
   segment with a shared acceleration gives gravity, velocities, restitution at each bounce, and momentum and
   energy across collisions (mass proportional to area).
6. **Events.** vanish, appear, teleport, morph, color_change and interpenetration, each with the frame where
   it starts. Leaving the frame, passing behind scenery and touching a same-coloured ball are not events.

Coordinates are pixels, x to the right and y down, pixel (row 0, col 0) centred at (0, 0).
"""

from vidlab.pixels import as_float_video  # noqa: F401  (validates every video the probes read)
from vidlab.probes.records import EVENT_KINDS, Bounce, Collision, Event, PhysicsReport, Track  # noqa: F401
from vidlab.probes.report import physics_report  # noqa: F401
