start_all()
