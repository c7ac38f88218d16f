import unittest

from calc.format import fixed


class FormatTest(unittest.TestCase):
    def test_fixed_rounds_to_the_given_places(self):
        self.assertEqual(fixed(2.0), "2.00")
        self.assertEqual(fixed(3.14159, 3), "3.142")


if __name__ == "__main__":
    unittest.main()
