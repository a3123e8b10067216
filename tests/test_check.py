"""vidlab.check: the helpers every probe measurement relies on, tested directly."""

import numpy as np

from vidlab import check, probes, world


def test_match_tracks_pairs_each_true_ball_with_its_own_track():
    clip = world.simulate("collision", 3)
    report = probes.physics_report(clip.video, clip.fps)
    matched = check.match_tracks(clip, report)
    assert len(matched) == clip.num_objects == 2 and matched[0] is not matched[1]
    for j, track in enumerate(matched):
        whole = clip.visible_fraction[:, j] > 0.999
        assert np.nanmedian(np.linalg.norm(track.centers[whole] - clip.centers[whole, j], axis=1)) < 0.25


def test_one_merged_track_is_matched_to_one_ball_only():
    import dataclasses

    clip = world.simulate("collision", 3)
    report = probes.physics_report(clip.video, clip.fps)
    halfway = clip.centers.mean(axis=1)  # one blob between the two balls, as a model that merged them draws
    merged = dataclasses.replace(report.tracks[0], centers=halfway)
    matched = check.match_tracks(clip, dataclasses.replace(report, tracks=[merged]))
    assert sum(m is merged for m in matched) == 1 and matched.count(None) == 1
    errors = check.center_errors(clip, dataclasses.replace(report, tracks=[merged]))
    assert np.isnan(errors).any()  # the unmatched ball counts as lost, not as found half a collision away


def test_match_tracks_gives_none_where_nothing_was_seen():
    clip = world.simulate("uniform", 1)
    blank = np.full_like(clip.video, 255)  # the background alone: no ball in any frame
    assert check.match_tracks(clip, probes.physics_report(blank, clip.fps)) == [None]


def test_center_errors_cover_every_whole_frame_and_mark_a_lost_ball():
    clip = world.simulate("projectile", 5)
    errors = check.center_errors(clip, probes.physics_report(clip.video, clip.fps))
    assert len(errors) == int((clip.visible_fraction[:, 0] > 0.999).sum()) and errors.max() < 0.25
    blank = np.full_like(clip.video, 255)
    lost = check.center_errors(clip, probes.physics_report(blank, clip.fps))
    assert len(lost) == len(errors) and np.isnan(lost).all()
