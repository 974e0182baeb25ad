from lab import tables


def test_the_research_write_ups_agree_with_their_results_files():
    assert tables.problems() == []
