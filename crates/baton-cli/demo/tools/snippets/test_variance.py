import unittest

from calc.stats import stdev, variance


class VarianceTest(unittest.TestCase):
    def test_population_variance_and_standard_deviation(self):
        values = [2, 4, 4, 4, 5, 5, 7, 9]
        self.assertEqual(variance(values), 4.0)
        self.assertEqual(stdev(values), 2.0)

    def test_no_values_is_an_error(self):
        with self.assertRaises(ValueError):
            variance([])


if __name__ == "__main__":
    unittest.main()
