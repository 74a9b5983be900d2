"""Analysis: themes from residents' answers, personal details scrubbed, digests rendered, priorities scored."""
