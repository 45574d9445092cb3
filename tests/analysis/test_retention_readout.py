"""The retention read-out's rule on curves that flatten and curves that keep falling (hand-checked)."""
import numpy as np
import pandas as pd

from journey_explorer.analysis import retention
from journey_explorer.analysis.retention import read_out, wilson_band
from journey_explorer.eventlog import EventLog


def curve(shares, eligible=10_000):
    """A curve frame: period 0 at 100 %, then the given shares, ``eligible`` users in every period."""
    shares = [1.0] + list(shares)
    retained = [round(s * eligible) for s in shares]
    return pd.DataFrame({"period": range(len(shares)), "eligible": eligible, "retained": retained,
                         "share": shares})


def test_flat_for_eight_weeks_is_called_flat_where_it_starts():
    # the demo's shape: falls to ~6% by week 5, then wobbles within a point for 7 weeks
    flattens_at, plateau, text = read_out(curve([.27, .16, .12, .10, .07, .067, .057, .053, .05, .059, .054, .055]),
                                          "week")
    # week 5 (7%) vs later ones: at most 2 points away (5.0%), tolerance min(2 pts, 25% of 7%) = 1.75 pts plus
    # noise 1.96·sqrt(.07·.93/1e4 + .05·.95/1e4) = 0.66 pts -> max is 1.75: 2.0 > 1.75, not flat from 5.
    # week 6 (6.7%): largest gap 1.7 points (5.0%) <= min(2, 1.675)? no: 1.7 > 1.675 -> not flat from 6.
    # week 7 (5.7%): largest gap 0.7 points <= 1.425 -> flat from week 7, for 5 weeks since
    assert flattens_at == 7
    assert plateau == round(np.mean([.057, .053, .05, .059, .054, .055]), 4)
    assert "levels off from week 7" in text and "still" not in text and "stays level through week 12" in text


def test_steady_fall_is_not_called_flat():
    # down 3 points a week: every candidate's next week is already 3 points away (> 2)
    flattens_at, plateau, text = read_out(curve([.60, .57, .54, .51, .48, .45, .42, .39]), "week")
    assert (flattens_at, plateau) == (None, None)
    assert "not levelled off: down 9.0 points over the last 3 weeks (48% → 39% at week 8)" in text


def test_low_curve_halving_is_not_flat_although_within_two_points():
    # 4% -> 2%: within 2 points, but 25% of the level (1 point) is the tolerance at 4%
    flattens_at, _, text = read_out(curve([.10, .06, .04, .035, .03, .025, .02]), "day")
    assert flattens_at is None and "down" in text


def test_small_cohorts_flatten_only_beyond_noise():
    # 100 users: 35% then 31%, 30%, 30% is inside the 95% margin (13 points); 45% vs 30% is not
    flattens_at, _, _ = read_out(curve([.6, .45, .35, .31, .30, .30], eligible=100), "week")
    assert flattens_at == 3


def test_too_little_history():
    flattens_at, _, text = read_out(curve([.5, .4, .4], eligible=10_000), "month")
    assert flattens_at is None and text.startswith("Too little history")
    # periods with fewer than 30 eligible users do not count
    short = curve([.5, .4, .4, .4, .4], eligible=10_000).assign(eligible=[100, 100, 100, 100, 20, 20])
    assert read_out(short, "week")[0] is None


def test_wilson_band_hand_checked():
    low, high = wilson_band([0, 10], [10, 10])
    # 0 of 10: [0, 27.8%]; 10 of 10: [72.2%, 100%]
    assert np.allclose([low[0], high[0], low[1], high[1]], [0, 0.2775, 0.7225, 1], atol=1e-4)


def test_a_curve_that_reaches_zero_says_nobody_comes_back():
    flattens_at, plateau, text = read_out(curve([.3, .1, .02, 0, 0, 0, 0]), "week")
    # week 4 (0%) with 0, 0, 0 after it: level; week 3 (2%) vs 0: 2 points > its tolerance,
    # max(noise 1.96·sqrt(.02·.98/1e4) = 0.27 pts, min(2 pts, 25% of 2% = 0.5 pts)) = 0.5 pts
    assert (flattens_at, plateau) == (4, 0.0)
    assert text.startswith("Retention falls to about zero by week 4") and "levels off" not in text


def test_a_curve_sliding_among_the_last_crumbs_says_almost_nobody_comes_back():
    # 0.9 % -> 0.4 % over the last weeks is a relative halving (no plateau by the rule) but nobody is left:
    # every share from week 5 on is under 1 %, so it reads from there, the plateau their weighted mean.
    flattens_at, plateau, text = read_out(curve([.59, .2, .05, .02, .009, .008, .006, .005, .004]), "week")
    assert flattens_at == 5 and plateau == round(np.mean([.009, .008, .006, .005, .004]), 4)
    assert text == "Retention falls below 1% by week 5: almost nobody comes back after that (through week 9)."


def weekly_cohorts(returning) -> EventLog:
    """Weekly cohorts of 40 users over 10 weeks from Monday 2024-01-01; ``returning(week)`` of each
    cohort come back 8 days after their start. One later user keeps the data going, so the last
    cohorts' week 1 is known."""
    day, monday = 86_400_000, 1704067200000
    rows = []
    for week in range(10):
        for n in range(40):
            start = monday + week * 7 * day + n * 60_000
            rows.append((f"u{week}-{n}", "open", start))
            if n < returning(week):
                rows.append((f"u{week}-{n}", "open", start + 8 * day))
    rows.append(("late", "open", monday + 80 * day))
    return EventLog.from_frame(pd.DataFrame(rows, columns=["user", "event", "time"]))


def test_the_retention_view_says_when_newer_cohorts_came_back_less():
    """20 of each cohort came back the next week before week 5, 6 after. The view's readout (the same
    words as the report's) says so, with the numbers behind it."""
    result = retention.run(weekly_cohorts(lambda week: 20 if week < 5 else 6), retention.Spec(period="week"))
    assert (result.shift["before"], result.shift["after"], result.shift["since"]) == (0.5, 0.15, "2024-02-05")
    assert result.readout.endswith("Week-1 retention fell from 50% of the 200 users who started before 2024-02-05 "
                                   "to 15% of the 200 who started from then to the week of 2024-03-04 (the last "
                                   "whose week 1 is known).")
