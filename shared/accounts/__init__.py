"""What staff and payer accounts share: sessions kept on the server, and one way to make and check
passwords and the emailed links (resets, confirmations, invitations) that stand in for them."""
