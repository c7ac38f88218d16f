import unittest

from calc.format import percent


class PercentTest(unittest.TestCase):
    def test_a_ratio_is_shown_as_a_percentage(self):
        self.assertEqual(percent(0.125), "12.5%")
        self.assertEqual(percent(1), "100.0%")
        self.assertEqual(percent(0.33333, 2), "33.33%")


if __name__ == "__main__":
    unittest.main()
