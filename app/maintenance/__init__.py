"""Operations that keep a community's data safe: backup, restore, upload sweeping."""
