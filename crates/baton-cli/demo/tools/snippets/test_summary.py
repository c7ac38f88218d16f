import unittest

from calc.summary import describe


class SummaryTest(unittest.TestCase):
    def test_describe_gives_formatted_statistics(self):
        self.assertEqual(
            describe([2, 4, 4, 4, 5, 5, 7, 9]),
            {
                "count": 8,
                "average": "5.00",
                "median": "4.50",
                "stdev": "2.00",
                "cv": "40.0%",
            },
        )

    def test_a_zero_average_has_no_coefficient_of_variation(self):
        self.assertEqual(describe([-1, 1])["cv"], "n/a")


if __name__ == "__main__":
    unittest.main()
