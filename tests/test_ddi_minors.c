/*
 * ustreams_minor_alloc, ustreams_minor_free: clone minors.
 */
#include "harness.h"

#include <sys/ddi.h>

#include <pthread.h>
#include <string.h>

USTREAMS_MINORS_DECLARE(set70, 70);	/* two words, the second partial */

static void
free_all(void)
{
	memset((void *)set70_bits, 0, sizeof (set70_bits));
}

START_TEST(minors_come_lowest_first_until_none_is_left)
{
	free_all();
	for (int i = 0; i < 70; i++)
		ck_assert_int_eq(ustreams_minor_alloc(&set70), i);
	ck_assert_int_eq(ustreams_minor_alloc(&set70), -1);
}
END_TEST

START_TEST(a_freed_minor_is_the_next_one_given)
{
	free_all();
	for (int i = 0; i < 70; i++)
		(void) ustreams_minor_alloc(&set70);
	ustreams_minor_free(&set70, 65);
	ustreams_minor_free(&set70, 3);
	ck_assert_int_eq(ustreams_minor_alloc(&set70), 3);
	ck_assert_int_eq(ustreams_minor_alloc(&set70), 65);
	ck_assert_int_eq(ustreams_minor_alloc(&set70), -1);
}
END_TEST

START_TEST(freeing_a_minor_not_in_use_panics)
{
	free_all();
	harness_panic_catch();
	HARNESS_EXPECT_PANIC(ustreams_minor_free(&set70, 5));
	ck_assert_ptr_nonnull(strstr(harness_panic_msg(), "old & bit"));
	HARNESS_EXPECT_PANIC(ustreams_minor_free(&set70, 70));
}
END_TEST

static int got[4][35];

static void *
take(void *arg)
{
	int *mine = arg;

	for (int i = 0; i < 35; i++)
		mine[i] = ustreams_minor_alloc(&set70);
	return (NULL);
}

/* Four threads take 140 minors from 70: each one exactly once. */
START_TEST(concurrent_opens_never_share_a_minor)
{
	pthread_t t[4];
	int seen[70] = { 0 }, none = 0;

	free_all();
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, take, got[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++) {
		for (int j = 0; j < 35; j++) {
			if (got[i][j] < 0)
				none++;
			else
				seen[got[i][j]]++;
		}
	}
	ck_assert_int_eq(none, 70);
	for (int m = 0; m < 70; m++)
		ck_assert_int_eq(seen[m], 1);
}
END_TEST

static Suite *
minors_suite(void)
{
	Suite *s = suite_create("ddi_minors");
	TCase *tc = harness_tcase("minors", 30);

	tcase_add_test(tc, minors_come_lowest_first_until_none_is_left);
	tcase_add_test(tc, a_freed_minor_is_the_next_one_given);
	tcase_add_test(tc, freeing_a_minor_not_in_use_panics);
	tcase_add_test(tc, concurrent_opens_never_share_a_minor);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (harness_run(minors_suite()));
}
